namespace VulkanCnn.Vulkan;

/// <summary>A GPU timestamp written by <see cref="CommandRecording.Timestamp"/>, relative to the recording's first one.</summary>
public readonly record struct TimestampSample(string Label, double Milliseconds);
