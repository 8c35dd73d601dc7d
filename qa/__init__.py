"""Question in, cited answer out: hybrid retrieval, extractive answers, abstention, chat.

A Python API with no user I/O. Never imports ui or evals.

    from qa.engine import Isnad
    isnad = Isnad.open()                  # loads (or first builds) the index once
    answer = isnad.ask("متى وقعت معاهدة التحالف بين أذربيجان وأوزبكستان؟")
    answer.to_dict()                      # the Answer JSON of DESIGN.md
"""
