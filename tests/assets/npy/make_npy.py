"""Writes the .npy fixtures NpyFileTests reads. Run with Debian's python3-numpy:
    /usr/bin/python3 tests/assets/npy/make_npy.py
The values are simple formulas the tests recompute in C#."""
import os
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))


def save(name, arr, version=None):
    path = os.path.join(here, name)
    if version is None:
        np.save(path, arr)
    else:
        with open(path, "wb") as f:
            np.lib.format.write_array(f, arr, version=version)


# value(i) = i * 0.25 - 3 over the flat C-order index
def ramp(shape, dtype=np.float32):
    n = int(np.prod(shape))
    return (np.arange(n, dtype=np.float64) * 0.25 - 3).astype(dtype).reshape(shape)


save("f4_2x3.npy", ramp((2, 3)))
save("f4_2x3x4x5.npy", ramp((2, 3, 4, 5)))
save("f4_vector5.npy", ramp((5,)))
save("f4_scalar.npy", np.float32(3.5))
save("f4_empty_0x3.npy", np.zeros((0, 3), np.float32))
save("f4_v2_3x2.npy", ramp((3, 2)), version=(2, 0))
save("f8_2x2.npy", ramp((2, 2), np.float64))
save("i4_2x3.npy", (np.arange(6, dtype=np.int32) - 2).reshape(2, 3))
save("i8_4.npy", np.array([-(2 ** 40), -1, 0, 7], dtype=np.int64))
save("i8_small_3.npy", np.array([-5, 0, 9], dtype=np.int64))
save("f4_fortran_2x3.npy", np.asfortranarray(ramp((2, 3))))
save("f4_bigendian_3.npy", ramp((3,)).astype(">f4"))
save("u1_3.npy", np.array([1, 2, 3], dtype=np.uint8))
print("numpy", np.__version__)
