"""Domain errors. Services raise these; the UI and CLI turn them into messages."""


class DomainError(Exception):
    """A request broke a business rule."""


class IllegalTransition(DomainError):
    """The item lifecycle does not allow this move."""


class PermissionDenied(DomainError):
    """The acting user's role may not do this."""


class NotFound(DomainError):
    """The object the request names does not exist."""


class FourEyesViolation(DomainError):
    """A second, different person must approve this."""


class LeaseLost(DomainError):
    """Another worker holds this item's scan lease now; this worker's result is discarded."""
