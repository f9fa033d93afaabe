"""The one compiled module of ciyuan: the ledger stores' batch engine and hash chain in C.

Everything else is in pyproject.toml. The extension is optional: without a C compiler or
OpenSSL's headers the install still succeeds and the stores run the same rules in Python
(ciyuan.store.ledger_rows.batch_write), slower. docs/dependencies.md says why it exists.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension(
    "ciyuan.store._ledger_native",
    sources=["src/ciyuan/store/_ledger_native.c"],
    libraries=["crypto"],
    extra_compile_args=["-O2"],
    optional=True,
)])
