from django.db import migrations


def create_lock_row(apps, schema_editor):
    StreamPosition = apps.get_model("realtime", "StreamPosition")
    StreamPosition.objects.using(schema_editor.connection.alias).get_or_create(model="*")


class Migration(migrations.Migration):
    dependencies = [("realtime", "0001_initial")]
    operations = [migrations.RunPython(create_lock_row, migrations.RunPython.noop)]
