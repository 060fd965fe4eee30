"""Required courses (支部要求): a secretary assigns a course to an organization subtree with a due date."""
from flask import Blueprint

bp = Blueprint("assignments", __name__)
