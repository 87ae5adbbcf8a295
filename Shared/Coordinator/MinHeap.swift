/// A binary min-heap: the least element first, O(log n) to add one and to take the least.
/// `isLess` orders the elements (a timer's time, an input's offset).
struct MinHeap<Element> {
    private(set) var elements: [Element] = []
    private let isLess: (Element, Element) -> Bool

    init(by isLess: @escaping (Element, Element) -> Bool) {
        self.isLess = isLess
    }

    /// A heap of `elements`, built in O(n).
    init(_ elements: [Element], by isLess: @escaping (Element, Element) -> Bool) {
        self.elements = elements
        self.isLess = isLess
        for parent in stride(from: elements.count / 2 - 1, through: 0, by: -1) { siftDown(from: parent) }
    }

    var count: Int { elements.count }
    var isEmpty: Bool { elements.isEmpty }
    /// The least element.
    var first: Element? { elements.first }

    mutating func insert(_ element: Element) {
        elements.append(element)
        var child = elements.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard isLess(elements[child], elements[parent]) else { break }
            elements.swapAt(child, parent)
            child = parent
        }
    }

    /// Takes the least element away; nil when there is none.
    @discardableResult
    mutating func removeFirst() -> Element? {
        guard !elements.isEmpty else { return nil }
        elements.swapAt(0, elements.count - 1)
        let least = elements.removeLast()
        siftDown(from: 0)
        return least
    }

    /// Moves the element at `parent` down until neither child is less.
    private mutating func siftDown(from parent: Int) {
        var parent = parent
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < elements.count, isLess(elements[left], elements[smallest]) { smallest = left }
            if right < elements.count, isLess(elements[right], elements[smallest]) { smallest = right }
            guard smallest != parent else { return }
            elements.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
