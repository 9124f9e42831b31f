"""Errors a user can act on: each names the file, the problem and the fix.

Library layers speak of the library: a fix names a setting by its config field
(``setting="label_snr"``), not by a command-line flag. The stage layer, which knows the
command line, adds the flag and the command that writes a missing input."""


class UvhuntError(Exception):
    """An error caused by input or environment, reported without a traceback (exit code 2)."""

    def __init__(
        self,
        problem: str,
        *,
        path: object = None,
        fix: str | None = None,
        setting: str | None = None,
    ):
        self.problem = problem
        self.path = None if path is None else str(path)
        self.fix = fix
        self.setting = setting
        """The config field (e.g. ``label_snr``) the fix asks to change, if any."""
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = f"{self.path}: " if self.path else ""
        fix = f"\n  fix: {self.fix}" if self.fix else ""
        return f"{where}{self.problem}{fix}"

    def __reduce__(self):
        """Pickled whole (path, fix and setting too), as worker processes send it back."""
        return (_rebuild, (type(self), self.problem, self.path, self.fix, self.setting))


def _rebuild(cls, problem, path, fix, setting) -> UvhuntError:
    return cls(problem, path=path, fix=fix, setting=setting)
