"""Reads for the Communications page about message templates: the catalogue and a draft's changes."""
from core.adapters.templates import changes, template_info, template_names  # noqa: F401 (defined once, there)
