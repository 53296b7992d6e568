"""The local export server: store, demo workspace, export engine and GraphQL API."""
