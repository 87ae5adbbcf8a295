/// The lines of a text file written on any system: split on `\n`, a `\r` before it dropped,
/// empty lines kept, so that a line's index + 1 is its line number.
///
/// Split on Unicode scalars: Swift's `Character` holds "\r\n" as one, so splitting a `String`
/// on "\n" finds no line at all in a file saved with Windows line endings.
public func textLines(_ text: String) -> [String] {
    text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { line in
        String(line.last == "\r" ? line.dropLast() : line)
    }
}
