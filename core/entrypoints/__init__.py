"""Entry points: the command line, the worker, the verification API and the launcher. They read the
settings, build the app (core.bootstrap) and start things; nothing below imports them."""
