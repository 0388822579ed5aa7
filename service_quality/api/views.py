from django.db.models import Prefetch
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from qms import roles as qms_roles
from qms.api.mixins import HistoryMixin, TransitionsMixin
from qms.errors import ValidationFailed
from qms.permissions import RolePermission
from service_quality import selectors, services
from service_quality.api.serializers import (
    AutoScoreDecisionSerializer,
    AutoScoreSerializer,
    CalibrationAnswersSerializer,
    CalibrationSerializer,
    CoachingSerializer,
    CriterionSerializer,
    DashboardSerializer,
    EvaluationSerializer,
    EvaluationTaskSerializer,
    FrictionPhraseSerializer,
    ReasonSerializer,
    RevisionRequestSerializer,
    SamplingRuleSerializer,
    ScorecardSerializer,
    ScoresRequestSerializer,
    SectionSerializer,
)
from service_quality.filters import EvaluationFilter, ScorecardFilter
from service_quality.models import (
    CalibrationSession,
    Criterion,
    FrictionPhrase,
    SamplingRule,
    Scorecard,
    ScorecardSection,
)
from service_quality.workflow import COACHING_WORKFLOW, EVALUATION_WORKFLOW, SCORECARD_WORKFLOW

MANAGERS = frozenset({qms_roles.MANAGER})


class ScorecardViewSet(
    TransitionsMixin,
    HistoryMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Scorecard revisions. Drafts change by PATCH (with `version` and `reason`), sections and
    criteria by POST `sections/` and `criteria/`; approved ones by POST `revisions/`."""

    serializer_class = ScorecardSerializer
    permission_classes = [RolePermission]
    read_roles = qms_roles.READERS
    write_roles = MANAGERS
    filterset_class = ScorecardFilter
    search_fields = ["code", "name"]
    ordering_fields = ["code", "revision", "name", "status"]
    workflow = SCORECARD_WORKFLOW
    transition_service = staticmethod(services.scorecard_transition)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Scorecard.objects.none()
        sections = Prefetch(
            "sections",
            queryset=ScorecardSection.objects.prefetch_related(
                Prefetch("criteria", queryset=Criterion.objects.order_by("position", "id"))
            ),
        )
        return selectors.scorecard_list_for_user(self.request.user).prefetch_related(sections)

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.scorecard_create(
            actor=self.request.user,
            name=data["name"],
            description=data.get("description", ""),
            applies_to=data.get("applies_to"),
            pass_mark=data.get("pass_mark", 80),
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        version = data.pop("version")
        reason = data.pop("reason", "")
        serializer.instance = services.scorecard_update(
            serializer.instance, actor=self.request.user, reason=reason, version=version, **data
        )

    @extend_schema(
        request=SectionSerializer,
        responses={201: SectionSerializer},
        summary="Add a section to a draft",
    )
    @action(detail=True, methods=["post"], url_path="sections", serializer_class=SectionSerializer)
    def sections(self, request, pk=None):
        scorecard = self.get_object()
        incoming = SectionSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        section = services.section_add(scorecard, actor=request.user, **incoming.validated_data)
        return Response(SectionSerializer(section).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=CriterionSerializer,
        responses={201: CriterionSerializer},
        summary="Add a criterion to a draft",
    )
    @action(
        detail=True, methods=["post"], url_path="criteria", serializer_class=CriterionSerializer
    )
    def criteria(self, request, pk=None):
        scorecard = self.get_object()
        incoming = CriterionSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        criterion = services.criterion_add(scorecard, actor=request.user, **incoming.validated_data)
        return Response(CriterionSerializer(criterion).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=RevisionRequestSerializer,
        responses={201: ScorecardSerializer},
        summary="Start a new revision",
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="revisions",
        serializer_class=RevisionRequestSerializer,
    )
    def revisions(self, request, pk=None):
        scorecard = self.get_object()
        incoming = RevisionRequestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        revision = services.scorecard_new_revision(
            scorecard, actor=request.user, change_summary=incoming.validated_data["change_summary"]
        )
        return Response(
            ScorecardSerializer(self.get_queryset().get(pk=revision.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class EvaluationViewSet(
    TransitionsMixin,
    HistoryMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Evaluations of interactions. Everyone sees their own; team leads their team's; Quality
    Managers and Auditors all. Answers via PUT `scores/`; `transitions/`: submit (evaluator),
    dispute (person evaluated, reason), uphold / send_back (Quality Manager, signed)."""

    serializer_class = EvaluationSerializer
    permission_classes = [RolePermission]
    read_roles = qms_roles.EVERYONE
    write_roles = qms_roles.EVERYONE  # the services check evaluator, subject and manager
    filterset_class = EvaluationFilter
    search_fields = ["reference", "complaint__reference"]
    ordering_fields = ["created_at", "submitted_at", "score_percent", "reference"]
    workflow = EVALUATION_WORKFLOW
    transition_service = staticmethod(services.evaluation_transition)

    def get_queryset(self):
        return selectors.evaluation_list_for_user(self.request.user).prefetch_related(
            "scores__scored_by"
        )

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.evaluation_create(
            actor=self.request.user,
            scorecard=data["scorecard"],
            complaint=data["complaint"],
            communication=data.get("communication"),
            subject=data.get("subject"),
            evaluator=data.get("evaluator"),
            summary=data.get("summary", ""),
        )

    @extend_schema(
        request=ScoresRequestSerializer,
        responses=EvaluationSerializer,
        summary="Record answers of a draft evaluation",
    )
    @action(
        detail=True, methods=["put"], url_path="scores", serializer_class=ScoresRequestSerializer
    )
    def scores(self, request, pk=None):
        evaluation = self.get_object()
        incoming = ScoresRequestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        answers = {key: dict(value) for key, value in incoming.validated_data["answers"].items()}
        services.evaluation_score(
            evaluation,
            actor=request.user,
            answers=answers,
            reason=incoming.validated_data["reason"],
        )
        return Response(EvaluationSerializer(self.get_queryset().get(pk=evaluation.pk)).data)


class AutoScoreViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Automatic scores: suggestions for measurable criteria of every interaction. Evaluators
    `confirm/` one, or `override/` it with an `answer` and a `reason`."""

    serializer_class = AutoScoreSerializer
    permission_classes = [RolePermission]
    read_roles = qms_roles.EVERYONE
    write_roles = qms_roles.QUALITY
    filterset_fields = ["status", "method", "criterion"]
    search_fields = ["analysis__interaction_key"]
    ordering_fields = ["computed_at"]

    def get_queryset(self):
        return selectors.auto_score_list_for_user(self.request.user)

    @extend_schema(
        request=AutoScoreDecisionSerializer,
        responses=AutoScoreSerializer,
        summary="Confirm the automatic answer",
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="confirm",
        serializer_class=AutoScoreDecisionSerializer,
    )
    def confirm(self, request, pk=None):
        incoming = AutoScoreDecisionSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        row = services.auto_score_confirm(
            self.get_object(), actor=request.user, reason=incoming.validated_data["reason"]
        )
        return Response(AutoScoreSerializer(self.get_queryset().get(pk=row.pk)).data)

    @extend_schema(
        request=AutoScoreDecisionSerializer,
        responses=AutoScoreSerializer,
        summary="Override with an answer and a reason",
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="override",
        serializer_class=AutoScoreDecisionSerializer,
    )
    def override(self, request, pk=None):
        incoming = AutoScoreDecisionSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        row = services.auto_score_override(
            self.get_object(),
            actor=request.user,
            answer=incoming.validated_data["answer"],
            reason=incoming.validated_data["reason"],
        )
        return Response(AutoScoreSerializer(self.get_queryset().get(pk=row.pk)).data)


class FrictionPhraseViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """The managed friction list; Quality Managers add phrases and `deactivate/` them with a reason."""

    serializer_class = FrictionPhraseSerializer
    permission_classes = [RolePermission]
    read_roles = qms_roles.READERS
    write_roles = MANAGERS
    filterset_fields = ["is_active"]
    search_fields = ["phrase"]
    ordering_fields = ["phrase"]

    def get_queryset(self):
        return FrictionPhrase.objects.order_by("phrase")

    def perform_create(self, serializer):
        serializer.instance = services.friction_phrase_add(
            actor=self.request.user, phrase=serializer.validated_data["phrase"]
        )

    @extend_schema(
        request=ReasonSerializer,
        responses=FrictionPhraseSerializer,
        summary="Take the phrase off the list",
    )
    @action(detail=True, methods=["post"], url_path="deactivate", serializer_class=ReasonSerializer)
    def deactivate(self, request, pk=None):
        incoming = ReasonSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        row = services.friction_phrase_deactivate(
            self.get_object(), actor=request.user, reason=incoming.validated_data["reason"]
        )
        return Response(FrictionPhraseSerializer(row).data)


class SamplingRuleViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Sampling rules (Quality Managers): N per person per week at random, plus targeted samples."""

    serializer_class = SamplingRuleSerializer
    permission_classes = [RolePermission]
    read_roles = qms_roles.READERS
    write_roles = MANAGERS
    filter_backends = []

    def get_queryset(self):
        return SamplingRule.objects.order_by("name", "id")

    def perform_create(self, serializer):
        from service_quality import sampling

        data = dict(serializer.validated_data)
        data.pop("version", None)
        serializer.instance = sampling.sampling_rule_create(actor=self.request.user, **data)


class EvaluationTaskViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Sampled interactions to evaluate; the evaluator POSTs `start/` to open the evaluation."""

    serializer_class = EvaluationTaskSerializer
    permission_classes = [RolePermission]
    read_roles = qms_roles.EVERYONE
    write_roles = qms_roles.QUALITY
    filterset_fields = ["status", "reason", "kind"]
    ordering_fields = ["due_on", "created_at"]
    search_fields = ["interaction_key"]

    def get_queryset(self):
        return selectors.task_list_for_user(self.request.user)

    @extend_schema(
        request=None,
        responses={201: EvaluationSerializer},
        summary="Start the evaluation of this task",
    )
    @action(detail=True, methods=["post"], url_path="start")
    def start(self, request, pk=None):
        from service_quality import sampling

        evaluation = sampling.task_start(self.get_object(), actor=request.user)
        return Response(EvaluationSerializer(evaluation).data, status=status.HTTP_201_CREATED)


class CoachingViewSet(
    TransitionsMixin,
    HistoryMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Coaching records from evaluations. The person coached `acknowledge`s with an electronic
    signature (`password`); the coach records the agreed action done (`complete`)."""

    serializer_class = CoachingSerializer
    permission_classes = [RolePermission]
    read_roles = qms_roles.EVERYONE
    write_roles = qms_roles.EVERYONE  # the services check coach, person and manager
    filterset_fields = ["status"]
    ordering_fields = ["created_at", "due_on"]
    search_fields = ["evaluation__reference"]
    workflow = COACHING_WORKFLOW
    transition_service = staticmethod(services.coaching_transition)

    def get_queryset(self):
        return selectors.coaching_list_for_user(self.request.user)

    def perform_create(self, serializer):
        data = serializer.validated_data
        evaluation = data["evaluation"]
        if (
            not selectors.evaluation_list_for_user(self.request.user)
            .filter(pk=evaluation.pk)
            .exists()
        ):
            raise ValidationFailed.on("evaluation", "No such evaluation.")
        serializer.instance = services.coaching_create(
            evaluation,
            actor=self.request.user,
            moment=data["moment"],
            what_good_looks_like=data["what_good_looks_like"],
            agreed_action=data["agreed_action"],
            due_on=data["due_on"],
            follow_up_days=data.get("follow_up_days", services.FOLLOW_UP_DAYS),
            training_document=data.get("training_document"),
        )


class CalibrationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Calibration sessions: participants PUT blind `scores/`, the facilitator PUTs `agreed/` and
    POSTs `close/`; `report/` shows the caller's own answers while open and the spread once closed."""

    serializer_class = CalibrationSerializer
    permission_classes = [RolePermission]
    read_roles = qms_roles.READERS
    write_roles = qms_roles.QUALITY
    filter_backends = []

    def get_queryset(self):
        return (
            CalibrationSession.objects.select_related("facilitator")
            .prefetch_related("participants", "items")
            .order_by("-created_at")
        )

    def perform_create(self, serializer):
        from service_quality import calibration

        data = serializer.validated_data
        serializer.instance = calibration.calibration_create(
            actor=self.request.user,
            name=data["name"],
            scorecard=data["scorecard"],
            participants=data["participants"],
            interactions=[(i["complaint"], i.get("communication")) for i in data["interactions"]],
        )

    def _answers(self, request, method):
        from service_quality import calibration

        incoming = CalibrationAnswersSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        getattr(calibration, method)(
            self.get_object(), actor=request.user, answers=dict(incoming.validated_data["answers"])
        )
        return Response(_report(self.get_object(), request.user))

    @extend_schema(request=CalibrationAnswersSerializer, responses=dict, summary="My blind answers")
    @action(
        detail=True,
        methods=["put"],
        url_path="scores",
        serializer_class=CalibrationAnswersSerializer,
    )
    def scores(self, request, pk=None):
        return self._answers(request, "calibration_score")

    @extend_schema(
        request=CalibrationAnswersSerializer,
        responses=dict,
        summary="The agreed answers (facilitator)",
    )
    @action(
        detail=True,
        methods=["put"],
        url_path="agreed",
        serializer_class=CalibrationAnswersSerializer,
    )
    def agreed(self, request, pk=None):
        return self._answers(request, "calibration_agree")

    @extend_schema(request=None, responses=dict, summary="Close the session and reveal the spread")
    @action(detail=True, methods=["post"], url_path="close")
    def close(self, request, pk=None):
        from service_quality import calibration

        session = calibration.calibration_close(self.get_object(), actor=request.user)
        return Response(_report(session, request.user))

    @extend_schema(
        responses=dict,
        summary="Spread per criterion and per evaluator, agreement between evaluators "
        "(share, mean pairwise Cohen's kappa) and of the automatic answers with the agreed ones",
    )
    @action(detail=True, methods=["get"], url_path="report")
    def report(self, request, pk=None):
        return Response(_report(self.get_object(), request.user))


def _report(session, user) -> dict:
    from service_quality import calibration

    view = calibration.calibration_view(session, user)
    return {
        "closed": view["closed"],
        "mine": {f"{i}:{c}": a for (i, c), a in view["mine"].items()},
        "agreed": {f"{i}:{c}": a for (i, c), a in view["agreed"].items()},
        "per_criterion": view["per_criterion"],
        "per_evaluator": view["per_evaluator"],
        "auto_vs_agreed": view["auto_vs_agreed"],
    }


AGREEMENT_ROWS = inline_serializer(
    "AgreementRow",
    {
        "criterion": serializers.IntegerField(),
        "label": serializers.CharField(),
        "pairs": serializers.IntegerField(),
        "agreement": serializers.FloatField(allow_null=True),
        "kappa": serializers.FloatField(allow_null=True),
    },
    many=True,
)


class AgreementView(viewsets.ViewSet):
    """Automatic vs human scores per criterion: pairs, share of agreement, Cohen's kappa."""

    permission_classes = [RolePermission]
    read_roles = qms_roles.READERS

    @extend_schema(responses=AGREEMENT_ROWS, summary="Automatic vs human agreement per criterion")
    def list(self, request):
        from service_quality import agreement

        return Response(agreement.auto_vs_human())


class OneObjectSchema(AutoSchema):
    """The schema of a router's `list` action that answers one object, not an array."""

    def _is_list_view(self, serializer=None) -> bool:
        return False


class DashboardView(viewsets.ViewSet):
    """Quality score per person, team and criterion week by week, critical fails, coverage,
    coaching on time and the correlation with CSAT and NPS; `weeks` (4, 8, 12, 26, 52),
    `scorecard` (code), `department` (id). Each reader sees the evaluations they may read."""

    schema = OneObjectSchema()  # one dashboard object (Schemathesis found the array schema)
    permission_classes = [RolePermission]
    read_roles = qms_roles.EVERYONE

    @extend_schema(responses=DashboardSerializer, summary="Service-quality dashboard figures")
    def list(self, request):
        from service_quality import dashboard

        filters = dashboard.Filters.from_query(request.query_params)
        if filters.errors:
            raise ValidationFailed(
                "Some filters are not valid.",
                field_errors={name: [message] for name, message in filters.errors.items()},
            )
        board = dashboard.service_quality_dashboard(request.user, filters)
        kpis = board["kpis"]
        payload = {
            **board,
            "start": board["period"].start,
            "end": board["period"].end,
            "kpis": None
            if kpis is None
            else {
                code: {"value": v.value, "numerator": v.numerator, "denominator": v.denominator}
                for code, v in kpis.items()
            },
        }
        return Response(DashboardSerializer(payload).data)
