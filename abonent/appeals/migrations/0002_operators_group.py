"""The «Операторы» group with the permission to answer appeals in the operator console."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def create_group(apps, schema_editor):
    config = apps.get_app_config("appeals")
    config.models_module = True
    create_permissions(config, apps=apps, verbosity=0)
    config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Операторы")
    group.permissions.add(
        Permission.objects.get(codename="operate", content_type__app_label="appeals")
    )


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Операторы").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("appeals", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_group, remove_group)]
