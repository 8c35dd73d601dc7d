"""LangChain chat models for generative answers: built from the settings, failures described."""
from __future__ import annotations

import os

from qa.generative.errors import GenerativeConfigError, GenerativeError
from qa.settings import GenerativeParams

def make_chat_model(params: GenerativeParams):
    """A LangChain chat model for `params`: ChatOpenAI (any OpenAI-compatible endpoint),
    ChatOllama, or another provider through LangChain's init_chat_model."""
    if not params.enabled:
        raise GenerativeConfigError("no language model configured (give --llm PROVIDER:MODEL)")
    if params.provider == "openai":
        try:
            from langchain_openai import ChatOpenAI
        except ImportError:
            raise GenerativeConfigError(
                "--llm openai:… needs langchain-openai: pip install 'isnad[generative]'") from None
        key = os.environ.get(params.api_key_env) or os.environ.get("OPENAI_API_KEY")
        if not key:
            if not params.base_url:
                raise GenerativeConfigError(
                    f"--llm openai:{params.model} needs an API key in ${params.api_key_env} "
                    "(or give --llm-url for a local OpenAI-compatible server)")
            key = "not-needed"  # local servers (vLLM, llama.cpp, LM Studio) ignore it
        options: dict = dict(
            model=params.model, base_url=params.base_url, api_key=key, temperature=params.temperature,
            max_tokens=params.max_tokens, timeout=params.timeout, max_retries=params.max_retries,
            use_responses_api=False, stream_usage=False,
        )
        if params.base_url:
            # ChatOpenAI sends `max_completion_tokens`; some compatible servers only read max_tokens.
            options["extra_body"] = {"max_tokens": params.max_tokens}
        return ChatOpenAI(**options)
    if params.provider == "ollama":
        try:
            from langchain_ollama import ChatOllama
        except ImportError:
            raise GenerativeConfigError(
                "--llm ollama:… needs langchain-ollama: pip install 'isnad[generative]'") from None
        return ChatOllama(
            model=params.model, base_url=params.base_url, temperature=params.temperature,
            num_predict=params.max_tokens, client_kwargs={"timeout": params.timeout},
        )
    init_chat_model = _init_chat_model()
    if init_chat_model is None:
        raise GenerativeConfigError(
            f"unknown model provider {params.provider!r}: use openai:MODEL or ollama:MODEL "
            "(other LangChain providers need the `langchain` package)")
    options = dict(temperature=params.temperature, max_tokens=params.max_tokens, timeout=params.timeout,
                   max_retries=params.max_retries)
    if params.base_url:
        options["base_url"] = params.base_url
    key = os.environ.get(params.api_key_env)
    if key:
        options["api_key"] = key
    try:
        return init_chat_model(params.model, model_provider=params.provider, **options)
    except Exception as exc:  # noqa: BLE001 - a missing partner package, an unknown provider
        raise GenerativeConfigError(f"--llm {params.label}: {_first_line(exc)}") from None


def _init_chat_model():
    for module in ("langchain.chat_models", "langchain_classic.chat_models"):
        try:
            return __import__(module, fromlist=["init_chat_model"]).init_chat_model
        except (ImportError, AttributeError):
            continue
    return None


def describe_failure(exc: BaseException, params: GenerativeParams) -> str:
    """A short reason, for the notice, for an exception raised by a model call."""
    if isinstance(exc, GenerativeError):
        return exc.reason
    names = " ".join(c.__name__ for c in type(exc).__mro__).lower()
    where = params.base_url or params.provider or "the model service"
    if "timeout" in names or isinstance(exc, TimeoutError):
        return f"no reply from {where} within {params.timeout:g} s"
    if "connect" in names or isinstance(exc, ConnectionError):
        return f"could not connect to {where}"
    if "notfound" in names:
        return f"model {params.model!r} not found at {where}"
    if "authentication" in names or "permissiondenied" in names:
        return f"{where} refused the API key"
    if "validation" in names or "decode" in names or isinstance(exc, (ValueError, LookupError, TypeError, AttributeError)):
        return "malformed response from the model service"
    return f"{type(exc).__name__}: {_first_line(exc)}"[:200]


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:200] if lines else type(exc).__name__
