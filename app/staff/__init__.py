"""The staff dashboard and its service-standards panel."""
