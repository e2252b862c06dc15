"""Staff roles as groups with least-privilege permissions (abonent/identity/roles.py)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def create_roles(apps, schema_editor):
    from abonent.identity.roles import roles_apply

    for config in apps.get_app_configs():
        config.models_module = True
        create_permissions(config, apps=apps, verbosity=0)
        config.models_module = None
    roles_apply(
        group_model=apps.get_model("auth", "Group"),
        permission_model=apps.get_model("auth", "Permission"),
    )


def remove_roles(apps, schema_editor):
    # «Операторы» belongs to appeals.0002 and stays.
    apps.get_model("auth", "Group").objects.filter(
        name__in=["Специалисты по начислениям", "Редакторы новостей", "Администраторы"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("identity", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("core", "0004_job_outbox"),
        ("accounts", "0004_accountservice_service_and_more"),
        ("billing", "0003_charge_references_checked_at_close"),
        ("meters", "0002_reading_versions"),
        ("payments", "0001_initial"),
        ("appeals", "0002_operators_group"),
        ("notices", "0002_info"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
