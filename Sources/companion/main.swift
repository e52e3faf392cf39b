import CompanionCLI

runCompanion()
