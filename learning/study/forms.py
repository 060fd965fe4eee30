from flask_wtf import FlaskForm


class ActionForm(FlaskForm):
    """A button that changes state: a POST with the CSRF token and nothing else."""
