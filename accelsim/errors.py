"""The one error type that reaches the user: a bad input, reported as one line, exit status 2."""


class InputError(Exception):
    """A config, trace, spec or argument the user gave us is wrong.

    The message is one line that names the file, the field and the fix. The CLI prints it as
    ``accelsim: error: <message>`` and exits with status 2; nothing is written.
    """

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))
