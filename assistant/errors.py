"""User-facing errors: the message says what was wrong and what is accepted."""


class UserError(ValueError):
    """Bad input from a shopper, merchant or API caller. Shown as-is, never as a traceback."""


class CLIError(Exception):
    """A user-facing error of the `shopassist` command line: printed without a traceback, exit status 2."""
