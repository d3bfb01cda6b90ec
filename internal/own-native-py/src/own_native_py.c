#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <own_native.h>

static PyObject *checksum(PyObject *self, PyObject *args) {
    const char *data;
    if (!PyArg_ParseTuple(args, "s", &data)) return NULL;
    return PyLong_FromUnsignedLong(own_native_checksum(data));
}

static PyObject *version(PyObject *self, PyObject *args) {
    return PyUnicode_FromString(own_native_version());
}

static PyMethodDef methods[] = {
    {"checksum", checksum, METH_VARARGS, "own_native_checksum of a string"},
    {"version", version, METH_NOARGS, "the version of libown_native"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "own_native_py", NULL, -1, methods};

PyMODINIT_FUNC PyInit_own_native_py(void) { return PyModule_Create(&module); }
