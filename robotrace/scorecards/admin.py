from __future__ import annotations

from django.contrib import admin

from robotrace.scorecards.models import Dispute, FlagRun

admin.site.register(FlagRun)
admin.site.register(Dispute)
