"""Registers every command on the group, one module per command, each imported only when
its command runs (:meth:`initlab.cli.app.InitlabGroup.add_lazy_command`)."""

from initlab.cli.app import cli

COMMANDS = {
    "course": "initlab.cli.course:course",
    "train": "initlab.cli.train:train",
    "compare": "initlab.cli.compare:compare",
    "experiment": "initlab.cli.experiment:experiment",
    "sweep": "initlab.cli.sweep:sweep",
    "results": "initlab.cli.results:results",
    "report": "initlab.cli.report:report",
    "inits": "initlab.cli.inits:inits",
    "activations": "initlab.cli.activations:activations",
    "diagnose": "initlab.cli.diagnose:diagnose",
    "app": "initlab.cli.app_command:app",
}

for _name, _where in COMMANDS.items():
    cli.add_lazy_command(_name, _where)
