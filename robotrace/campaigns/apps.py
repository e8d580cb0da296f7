from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "robotrace.campaigns"
    label = "campaigns"
    verbose_name = "Campaigns"
