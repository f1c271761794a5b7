"""What every error meant for the user shares: it shows as one line, in a notebook as on the
console. Each stays with its concept (`config.ConfigError`, `data.DataError`,
`chains.Busy`, `studies.common.Interrupted`)."""


class OneLine:
    """An error a notebook shows as the console does: one line, no traceback."""

    def _render_traceback_(self):  # IPython's hook
        return [f"{type(self).__name__}: {self}"]
