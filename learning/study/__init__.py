"""我的学习: the member's own study — home page, lesson completion, quizzes."""
from flask import Blueprint

bp = Blueprint("study", __name__)

