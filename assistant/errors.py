"""User-facing errors: the message says what was wrong and what is accepted."""


class UserError(ValueError):
    """Bad input from a shopper, merchant or API caller. Shown as-is, never as a traceback."""
