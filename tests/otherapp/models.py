"""A model with the same class name as one in testapp: both types take a prefix."""

from django.db import models


class Node(models.Model):
    label = models.CharField(max_length=20)
