"""Registers every command on the group (one module per command)."""

from initlab.cli.activations import activations
from initlab.cli.app import cli
from initlab.cli.app_command import app
from initlab.cli.compare import compare
from initlab.cli.course import course
from initlab.cli.diagnose import diagnose
from initlab.cli.experiment import experiment
from initlab.cli.inits import inits
from initlab.cli.report import report
from initlab.cli.results import results
from initlab.cli.sweep import sweep
from initlab.cli.train import train

cli.add_command(course)
cli.add_command(train)
cli.add_command(compare)
cli.add_command(experiment)
cli.add_command(sweep)
cli.add_command(results)
cli.add_command(report)
cli.add_command(inits)
cli.add_command(activations)
cli.add_command(diagnose)
cli.add_command(app)
