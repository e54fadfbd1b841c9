"""The one error type that reaches the user: a bad input, reported as one line, exit status 2."""


class InputError(Exception):
    """A config, trace, spec or argument the user gave us is wrong.

    The message is one line that names the file, the field and the fix. The CLI prints it as
    ``accelsim: error: <message>`` and exits with status 2; nothing is written.
    """

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


def report_input_errors(run, args) -> int:
    """Call ``run(args)``; an :class:`InputError` becomes one line on stderr and exit status 2.

    The one place that turns bad input into the user-facing line, shared by ``accelsim`` and the
    stand-alone entry points (``python -m accelsim.workloads.train`` and friends).
    """
    import sys

    try:
        return int(run(args) or 0)
    except InputError as e:
        print(f"accelsim: error: {e}", file=sys.stderr)
        return InputError.exit_code
