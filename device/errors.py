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
