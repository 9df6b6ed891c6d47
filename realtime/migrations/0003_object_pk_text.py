from django.db import migrations, models


class Migration(migrations.Migration):
    """A captured primary key may be longer than 64 characters (a CharField key of up
    to 255, a natural key): varchar(64) overflowed on PostgreSQL."""

    dependencies = [("realtime", "0002_lock_row")]
    operations = [
        migrations.AlterField(
            model_name="changerecord", name="object_pk", field=models.TextField(),
        ),
    ]
