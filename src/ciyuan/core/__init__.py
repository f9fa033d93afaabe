"""Value types and the error hierarchy shared by every ciyuan package.

``core`` does no I/O. Everything else depends on it; it depends on nothing of ours.
"""
