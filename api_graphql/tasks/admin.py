from django.contrib import admin

from api_graphql.tasks.models import TaskRun


@admin.register(TaskRun)
class TaskRunAdmin(admin.ModelAdmin):
    list_display = ("task_name", "state", "started_by", "created_at", "finished_at")
    list_filter = ("state", "task_name")
    search_fields = ("task_id", "task_name")
    readonly_fields = [f.name for f in TaskRun._meta.fields]
