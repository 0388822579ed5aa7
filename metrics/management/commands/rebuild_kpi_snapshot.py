import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from metrics import services
from metrics.kpis import KPIS


class Command(BaseCommand):
    help = "Rebuild the KPI snapshot of a past day (or of a range of days) from the live tables."

    def add_arguments(self, parser):
        parser.add_argument("--date", required=True, help="The day, YYYY-MM-DD.")
        parser.add_argument("--days", type=int, default=1, help="Rebuild this many days ending on --date (default 1).")

    def handle(self, *args, date, days, **options):
        try:
            day = datetime.date.fromisoformat(date)
        except ValueError:
            raise CommandError("--date must be YYYY-MM-DD.") from None
        if day > timezone.localdate():
            raise CommandError("Cannot snapshot a day in the future.")
        if not 1 <= days <= 3700:
            raise CommandError("--days must be between 1 and 3700.")
        start = day - datetime.timedelta(days=days - 1)
        services.snapshot_kpis_range(start=start, end=day)
        if days == 1:
            self.stdout.write(f"{day}: {len(KPIS)} KPIs written")
        else:
            self.stdout.write(f"{start} to {day}: {days} days of {len(KPIS)} KPIs written")
