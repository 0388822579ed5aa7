from django.apps import AppConfig
from django.db.backends.signals import connection_created


class PercentileCont:
    """SQLite aggregate with PostgreSQL's percentile_cont semantics (linear interpolation),
    for the embedded default of `make run`; PostgreSQL computes it natively."""

    def __init__(self):
        self.values = []
        self.fraction = None

    def step(self, value, fraction):
        self.fraction = fraction
        if value is not None:
            self.values.append(float(value))

    def finalize(self):
        if not self.values:
            return None
        values = sorted(self.values)
        position = (len(values) - 1) * float(self.fraction)
        lower = int(position)
        upper = min(lower + 1, len(values) - 1)
        return values[lower] + (values[upper] - values[lower]) * (position - lower)


class Latest:
    """SQLite aggregate: the value of the row with the greatest key (ISO dates compare as text)."""

    def __init__(self):
        self.key = None
        self.value = None

    def step(self, value, key):
        if key is not None and (self.key is None or key >= self.key):
            self.key, self.value = key, value

    def finalize(self):
        return self.value


def register_sqlite_functions(sender, connection, **kwargs):
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate("qms_percentile_cont", 2, PercentileCont)
        connection.connection.create_aggregate("qms_latest", 2, Latest)


class MetricsConfig(AppConfig):
    name = "metrics"
    verbose_name = "Metrics"

    def ready(self):
        connection_created.connect(register_sqlite_functions, dispatch_uid="metrics_sqlite_percentile")
        # The services register the metrics workflows' hooks (qms/workflow.py).
        from metrics import services  # noqa: F401
