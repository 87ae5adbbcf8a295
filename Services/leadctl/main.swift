import Foundation
import LeadControl

// Parses argv, runs the command, exits 0 (ok), 1 (failure) or 2 (usage); see `leadctl help`.
exit(await LeadControl.main(arguments: Array(CommandLine.arguments.dropFirst())))
