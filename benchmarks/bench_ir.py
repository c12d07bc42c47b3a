"""asv benchmarks of the IR text format: print and parse a 1,000-node graph."""

from jitcore.ir import Graph, SourceRange, parse_graph, print_graph


def chain_graph(num_nodes=1000):
    """A graph of ``num_nodes`` nodes: constants feeding a chain of adds, with source ranges."""
    g = Graph()
    x = g.add_input("x")
    for i in range(num_nodes // 2):
        alpha = g.insert_constant(i, source_range=SourceRange("model.py", i + 1, 4))
        x = g.insert("aten::add", [x, x, alpha],
                     source_range=SourceRange("model.py", i + 1, 8)).output()
    g.register_output(x)
    return g


class IRTextFormat:
    """Printing and parsing a 1,000-node graph."""

    def setup(self):
        self.graph = chain_graph(1000)
        self.text = print_graph(self.graph)

    def time_print_graph(self):
        print_graph(self.graph)

    def time_parse_graph(self):
        parse_graph(self.text)

    def time_round_trip(self):
        print_graph(parse_graph(self.text))
