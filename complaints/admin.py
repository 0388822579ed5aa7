"""Read-mostly admin (docs/style.md): configuration lists (products, categories, calendars and
holidays, SLA policies) can be maintained here with history; complaints and their parts are
shown read-only, because their writes go through the workflow and the services."""

from django import forms
from django.contrib import admin

from complaints.models import (
    Attachment,
    BusinessCalendar,
    Category,
    Communication,
    Complaint,
    Customer,
    Escalation,
    FailureMode,
    Holiday,
    Product,
    SlaPolicy,
    Survey,
)
from qms.admin import NoDeleteAdmin, ReadOnlyAdmin, ReadOnlyHistoryAdmin


@admin.register(Complaint)
class ComplaintAdmin(ReadOnlyHistoryAdmin):
    list_display = ["reference", "title", "status", "severity", "assignee", "received_at", "first_response_due", "resolution_due", "escalation_level"]
    list_filter = ["status", "severity", "channel", "is_recurring", "category", "failure_mode"]
    search_fields = ["reference", "title", "customer__name", "lot_number"]
    list_select_related = ["assignee"]
    date_hierarchy = "received_at"


@admin.register(Customer)
class CustomerAdmin(ReadOnlyHistoryAdmin):
    list_display = ["name", "organisation", "email", "phone"]
    search_fields = ["name", "organisation", "email"]


class ChangeReasonAdminForm(forms.ModelForm):
    change_reason = forms.CharField(
        label="Reason for the change", max_length=4000, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Recorded in the audit trail with your name.",
    )


class VersionBumpAdmin(NoDeleteAdmin):
    """Configuration edits in the admin keep the version and history honest: the editor gives
    their own reason (issue 15), which goes into the history of the record and of its inlines."""

    form = ChangeReasonAdminForm

    def save_model(self, request, obj, form, change):
        from qms.history import set_history

        if change:
            obj.version += 1
        set_history(obj, user=request.user, reason=form.cleaned_data["change_reason"].strip(), action="update" if change else "create")
        obj.save()

    def save_formset(self, request, form, formset, change):
        from qms.history import set_history

        for instance in formset.save(commit=False):
            if instance.pk and hasattr(instance, "version"):
                instance.version += 1
            set_history(instance, user=request.user, reason=form.cleaned_data["change_reason"].strip(),
                        action="update" if instance.pk else "create")
            instance.save()
        formset.save_m2m()


@admin.register(Product)
class ProductAdmin(VersionBumpAdmin):
    list_display = ["code", "name", "is_active"]
    search_fields = ["code", "name"]
    list_filter = ["is_active"]


@admin.register(Category)
class CategoryAdmin(VersionBumpAdmin):
    list_display = ["name", "description", "is_active"]
    list_filter = ["is_active"]


@admin.register(FailureMode)
class FailureModeAdmin(VersionBumpAdmin):
    list_display = ["name", "category", "description", "is_active"]
    list_filter = ["is_active", "category"]
    list_select_related = ["category"]
    search_fields = ["name", "description"]


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 1
    can_delete = False
    exclude = ["version"]


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(VersionBumpAdmin):
    list_display = ["name", "time_zone", "working_days", "working_periods"]
    inlines = [HolidayInline]


class SlaPolicyAdminForm(ChangeReasonAdminForm):
    class Meta:
        model = SlaPolicy
        fields = ["severity", "first_response_hours", "resolution_hours", "counts_business_time", "calendar", "escalation_steps"]

    def clean_escalation_steps(self):
        from complaints.services import validate_escalation_steps
        from qms.errors import ValidationFailed

        steps = self.cleaned_data["escalation_steps"]
        try:
            validate_escalation_steps(steps)
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.message) from None
        return steps


@admin.register(SlaPolicy)
class SlaPolicyAdmin(VersionBumpAdmin):
    form = SlaPolicyAdminForm
    list_display = ["severity", "first_response_hours", "resolution_hours", "counts_business_time", "calendar"]


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdmin):
    list_display = ["complaint", "kind", "level", "percent", "due_at", "at"]
    list_filter = ["kind", "level"]


@admin.register(Communication)
class CommunicationAdmin(ReadOnlyAdmin):
    list_display = ["complaint", "at", "direction", "channel", "author"]


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ["complaint", "original_name", "content_type", "size", "uploaded_by", "uploaded_at"]


@admin.register(Survey)
class SurveyAdmin(ReadOnlyAdmin):
    list_display = ["complaint", "email", "sent_at", "answered_at", "csat", "ces", "nps"]
    exclude = ["token_hash"]
