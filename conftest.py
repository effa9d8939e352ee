import os

# Python 3.11's debugger warns about frozen modules on stderr when a kernel starts;
# in a notebook that would be an unexpected output. Kernels inherit this setting.
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
