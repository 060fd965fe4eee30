"""学习心得: reflections written after finishing a course, reviewed by the branch secretary."""
from flask import Blueprint

bp = Blueprint("reflections", __name__)
