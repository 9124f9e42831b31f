"""Errors a user can act on: each names the file, the problem and the fix."""


class UvhuntError(Exception):
    """An error caused by input or environment, reported without a traceback (exit code 2)."""

    def __init__(self, problem: str, *, path: object = None, fix: str | None = None):
        self.problem = problem
        self.path = None if path is None else str(path)
        self.fix = fix
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = f"{self.path}: " if self.path else ""
        fix = f"\n  fix: {self.fix}" if self.fix else ""
        return f"{where}{self.problem}{fix}"
