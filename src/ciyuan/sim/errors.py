"""Errors of the simulated provider, each mapped to an HTTP status and a vendor error type.

::

    InputError
    ├── SimBadRequestError      400  the body is not a request the endpoint accepts
    └── SimBodyTooLargeError    413  the body is over MAX_BODY_BYTES
    UnknownModelError
    └── SimUnknownModelError    404  the model is not served by this sim-provider
    ConfigError
    ├── SimConfigError          the sim-provider's flags are invalid
    └── SimNoLogError           404  the usage export needs ``--log FILE``
    InputError
    └── SimLogFormatError       a line of the usage log cannot be read
"""

from __future__ import annotations

from typing import ClassVar

from ciyuan.core.errors import ConfigError, InputError, UnknownModelError

__all__ = [
    "SimBadRequestError",
    "SimBodyTooLargeError",
    "SimConfigError",
    "SimLogFormatError",
    "SimNoLogError",
    "SimUnknownModelError",
    "http_status",
]


class SimBadRequestError(InputError):
    code = "sim-bad-request"
    summary = ("A request to the simulated provider is malformed (not JSON, a missing or "
               "mistyped field); the message names the field and what to send.")
    status: ClassVar[int] = 400


class SimBodyTooLargeError(InputError):
    code = "sim-body-too-large"
    summary = ("A request body to the simulated provider is over its size bound "
               "(`ciyuan.sim.config.MAX_BODY_BYTES`); send a smaller prompt.")
    status: ClassVar[int] = 413


class SimUnknownModelError(UnknownModelError):
    code = "sim-unknown-model"
    summary = ("The simulated provider does not serve that model; `GET /v1/models` lists "
               "those it serves (choose them with `--models`).")
    status: ClassVar[int] = 404


class SimConfigError(ConfigError):
    code = "sim-config-invalid"
    summary = ("A `ciyuan sim-provider` option is invalid (fault rate outside 0–1, an "
               "unknown fault kind or model); the message names the option.")
    status: ClassVar[int] = 500


class SimNoLogError(ConfigError):
    code = "sim-no-log"
    summary = ("The usage export was asked of a sim-provider started without `--log FILE`; "
               "restart it with `--log`.")
    status: ClassVar[int] = 404


class SimLogFormatError(InputError):
    code = "sim-log-invalid"
    summary = ("A line of a sim-provider usage log is not a log record; the message gives "
               "the file and line number.")
    status: ClassVar[int] = 500


def http_status(error: Exception) -> int:
    """The HTTP status for an error raised while serving (400 for other input errors)."""
    status = getattr(error, "status", None)
    if isinstance(status, int):
        return status
    return 400 if isinstance(error, InputError) else 500
