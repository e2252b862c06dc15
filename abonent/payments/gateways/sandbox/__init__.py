"""The sandbox acquirer: a test-mode «bank» served by Abonent under /sandbox-acquirer/
(`bank/`, its own app and tables) and the `SandboxGateway` that talks to it over HTTP."""
