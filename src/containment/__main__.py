from containment.cli.main import app

app()
