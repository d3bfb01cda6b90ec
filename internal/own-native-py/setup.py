"""own-native-py: a Python C extension over libown_native (headers and library from $PREFIX)."""
import os

from setuptools import Extension, setup

prefix = os.environ["PREFIX"]
setup(
    name="own-native-py",
    version="1.0.0",
    ext_modules=[Extension("own_native_py", ["src/own_native_py.c"],
                           include_dirs=[f"{prefix}/include"], library_dirs=[f"{prefix}/lib"],
                           runtime_library_dirs=[f"{prefix}/lib"], libraries=["own_native"])],
)
