"""Text from data made safe to print on a terminal: control characters shown, never obeyed.

A sign-in name, an OPD or a file name may carry ESC sequences (clear the screen, rewrite the
line, set the window title), a carriage return or bidi overrides that make a log line lie.
Every command line prints data values through `terminal_safe`.
"""

from __future__ import annotations

import unicodedata


def _escaped(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(value: object) -> str:
    """`str(value)` with every control or format character (C0, DEL, C1, bidi overrides,
    zero-width marks) written as a visible escape such as `\\x1b`; other text unchanged."""
    text = "" if value is None else str(value)
    if text.isprintable():
        return text
    return "".join(_escaped(ch) if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text)


_KEPT = frozenset("\n\t")  # a stream's own line breaks and tabs (a single value gets no such pass)


class _EscapingStream:
    """A text stream that writes control characters as escapes, keeping line breaks and tabs."""

    def __init__(self, stream) -> None:  # noqa: ANN001
        self._stream = stream

    def write(self, text: str) -> int:
        if not text.isprintable():
            text = "".join(
                _escaped(ch) if ch not in _KEPT and unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch
                for ch in text
            )
        return self._stream.write(text)

    def __getattr__(self, name: str):  # noqa: ANN204 - flush, fileno, isatty, encoding ...
        return getattr(self._stream, name)


class escaped_output:  # noqa: N801 - used as a context manager, like contextlib's helpers
    """`with escaped_output(): ...` - everything printed to stdout and stderr inside is passed
    through the escaping stream: a command line that prints data values can use it whole."""

    def __enter__(self) -> None:
        import sys

        self._saved = (sys.stdout, sys.stderr)
        sys.stdout, sys.stderr = _EscapingStream(sys.stdout), _EscapingStream(sys.stderr)

    def __exit__(self, *exc: object) -> None:
        import sys

        sys.stdout, sys.stderr = self._saved
