"""Domain errors. The web layer maps each to one HTTP status with a plain `detail` sentence."""


class DomainError(Exception):
    """Base class: `status` is the HTTP status the web layer answers with."""

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BadRequest(DomainError):
    status = 400


class Unprocessable(DomainError):
    """Well-formed JSON whose fields have the wrong types."""

    status = 422


class Forbidden(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class VersionConflict(DomainError):
    """The user's database kept changing under us after every retry."""

    status = 409


class StorageUnavailable(DomainError):
    """The object store could not be reached (or answered 5xx)."""

    status = 503


class MediaError(DomainError):
    """A video could not be read or produced; the message is one plain sentence."""

    status = 400
