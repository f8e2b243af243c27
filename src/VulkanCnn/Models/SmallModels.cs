using VulkanCnn.Nn;

namespace VulkanCnn.Models;

/// <summary>Built-in models for <c>vkcnn train --model NAME</c>, sized for 28x28 grey images (Fashion-MNIST).</summary>
public static class SmallModels
{
    public static IReadOnlyList<string> Names { get; } = ["small-cnn", "small-resnet"];

    public static Module Create(string name, int inChannels = 1, int classes = 10, int imageSize = 28) => name switch
    {
        "small-cnn" => SmallCnn(inChannels, classes, imageSize),
        "small-resnet" => SmallResNet(inChannels, classes),
        _ => throw new ArgumentException($"Unknown model '{name}'. Built-in models: {string.Join(", ", Names)}.", nameof(name)),
    };

    /// <summary>conv3x3 32 → BN → ReLU → pool → conv3x3 64 → BN → ReLU → pool → fc128 → ReLU → fc (≈2.6 M MAC per 28x28 image).</summary>
    public static Sequential SmallCnn(int inChannels = 1, int classes = 10, int imageSize = 28) => new(
        Layers.Conv2d(inChannels, 32, 3, padding: 1), Layers.BatchNorm2d(32), Layers.ReLU(), Layers.MaxPool2d(2),
        Layers.Conv2d(32, 64, 3, padding: 1), Layers.BatchNorm2d(64), Layers.ReLU(), Layers.MaxPool2d(2),
        Layers.Flatten(), Layers.Linear(64 * (imageSize / 4) * (imageSize / 4), 128), Layers.ReLU(), Layers.Linear(128, classes));

    /// <summary>A stem conv and three residual stages (16, 32, 64 channels), global average pooling, fc.</summary>
    public static Module SmallResNet(int inChannels = 1, int classes = 10) => new Sequential(
        Layers.Conv2d(inChannels, 16, 3, padding: 1, bias: false), Layers.BatchNorm2d(16), Layers.ReLU(),
        new BasicBlock(16, 16, 1), new BasicBlock(16, 32, 2), new BasicBlock(32, 64, 2),
        Layers.AdaptiveAvgPool2d(), Layers.Flatten(), Layers.Linear(64, classes));
}
