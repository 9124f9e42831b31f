"""One module per subcommand: NAME, HELP, add_arguments(parser), main(args) -> exit code."""
