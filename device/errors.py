"""One exception tree: the CLI and the daemon catch EmotuneError at one place and print one line."""


class EmotuneError(Exception):
    """A known failure with a message that says what was wrong and what to do."""

    exit_code = 1  # the CLI's exit status for it; a subclass may have its own (PersonalDataError: 3)


class ConfigError(EmotuneError):
    pass


class CameraError(EmotuneError):
    pass


class ModelError(EmotuneError):
    pass


class CatalogError(EmotuneError):
    pass


class PlayerError(EmotuneError):
    pass


class DatabaseUnusableError(CatalogError):
    """The database file cannot be used. The message is one line naming the file and the fix; `reason` says
    why in a few plain words without paths ("it is not a database"), for the phone page; `lasting` is False
    only when waiting may help (another process held it locked)."""

    def __init__(self, message: str, reason: str, *, lasting: bool = True) -> None:
        super().__init__(message)
        self.reason = reason
        self.lasting = lasting
