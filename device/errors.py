"""One exception tree: the CLI and the daemon catch EmotuneError at one place and print one line."""


class EmotuneError(Exception):
    """A known failure with a message that says what was wrong and what to do."""


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
