"""Service quality (ISO 9001 9.1.2 customer satisfaction, ISO 10002 8.4, ISO 18295-1 5.4
monitoring of customer contact): scorecards of the behaviours and outcomes expected of the
people who handle customers, and evaluations of their interactions against a revision of one.

A scorecard row is one revision of a scorecard (`code` + `revision`); its sections and criteria
belong to that revision and change only while it is a draft. An evaluation keeps the revision
it was scored on. Status values and transitions live in service_quality/workflow.py, the
scoring rules in service_quality/scoring.py.

The models live in parts by subject; this package exports every model, its choices and the
`Historical<Model>` classes simple-history creates (set on the part that defines the model).
"""

# ruff: noqa: F401  (the package exports the names its module had, docs/style.md)

from service_quality.models.automatic import (
    AutoScore,
    AutoScoreStatus,
    FrictionPhrase,
    HistoricalAutoScore,
    HistoricalFrictionPhrase,
    InteractionAnalysis,
    SentimentLabel,
)
from service_quality.models.calibration import (
    CalibrationItem,
    CalibrationScore,
    CalibrationSession,
    HistoricalCalibrationScore,
    HistoricalCalibrationSession,
)
from service_quality.models.coaching import (
    CoachingRecord,
    HistoricalCoachingRecord,
)
from service_quality.models.common import (
    ANSWER_CODES,
    answer_is_valid,
    communication_field,
    complaint_field,
)
from service_quality.models.evaluations import (
    Evaluation,
    HistoricalEvaluation,
    HistoricalScore,
    Score,
)
from service_quality.models.sampling import (
    EvaluationTask,
    HistoricalSamplingRule,
    SampleReason,
    SamplingRule,
    TaskStatus,
)
from service_quality.models.scorecards import (
    AutoRule,
    Criterion,
    HistoricalCriterion,
    HistoricalScorecard,
    HistoricalScorecardSection,
    InteractionKind,
    Scale,
    Scorecard,
    ScorecardSection,
)
