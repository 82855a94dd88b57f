"""The one agent contract the training loop drives: skrl's ``Agent``.

Every agent, the classic four (skrl's own classes) and the diffusion agents alike, is a
``skrl.agents.torch.Agent`` and is driven only through:

- ``init(trainer_cfg=...)``; ``enable_training_mode(bool)``;
- ``pre_interaction(timestep=, timesteps=)``;
  ``act(observations, states, timestep=, timesteps=) -> (actions, outputs)``;
- ``record_transition(observations=, states=, actions=, rewards=, next_observations=, next_states=,
  terminated=, truncated=, infos=, timestep=, timesteps=)`` where ``next_observations`` holds the
  true final observation of an episode that just ended (see ``benchmark.loop``);
- ``post_interaction(timestep=, timesteps=)``: learns when its schedule says so;
- ``checkpoint_modules``: ``{name: module with state_dict/load_state_dict}``;
- ``tracking_data``: ``{tag: [values]}``; the loop reads and clears it every log interval.

To resume a run as the same experiment, a checkpoint holds more than ``checkpoint_modules``
(:func:`resume_state`, :func:`memory_state`): the replay memory (``agent.memory``, skrl's, read and
written generically), the few counters skrl's own agents keep outside their modules, a learning-rate
scheduler's state, the action spaces' random generators, and whatever the agent itself returns from
an optional ``resume_state() -> dict`` (given back to ``load_resume_state(state)`` on resume): the
place for an algorithm's own running state (counters, running averages, schedule positions).

For evaluation an agent may define ``act_eval(observations) -> actions``, the action its original
implementation evaluates with (e.g. QVPO's best of 32 candidates by Q), and ``evaluation_policy``,
that choice in words; otherwise (skrl's agents) the policy model's mean action (Gaussian) or its
action (deterministic models) is used. :func:`evaluation_policy` says which, for the records.
"""

from __future__ import annotations

import copy

import torch


@torch.no_grad()
def evaluation_action(agent, observations: torch.Tensor) -> torch.Tensor:
    if hasattr(agent, "act_eval"):
        return agent.act_eval(observations)
    inputs = {"observations": agent._observation_preprocessor(observations), "states": None}
    actions, outputs = agent.policy.act(inputs, role="policy")
    return outputs.get("mean_actions", actions)


def evaluation_policy(agent) -> str:
    """What :func:`evaluation_action` does for ``agent``, in words (kept with every evaluation)."""
    if getattr(agent, "evaluation_policy", ""):
        return agent.evaluation_policy
    if hasattr(agent, "act_eval"):
        return "the agent's own evaluation action (act_eval)"
    kind = type(agent.policy).__name__.lower()
    return "the Gaussian policy's mean action" if "gaussian" in kind else "the deterministic actor's action"


# skrl's SAC records its losses only while its own TensorBoard writer is on (write_interval > 0).
# For agents that say so (``losses_need_write_interval``), an interval that is never reached keeps
# those records without any writes. Others get 0: skrl's per-step reward tracking costs ~0.35 ms a
# step at 1024 envs on the CPU, and the loop counts episodes itself.
NEVER = 2**62


def init_for_loop(agent) -> None:
    """``agent.init()`` with skrl's own TensorBoard writer and checkpoints off (the loop does both),
    and its action spaces' generators seeded from the seed torch's generator was given (the run's;
    see :func:`action_spaces`) without drawing from it: every other random draw stays as it was."""
    agent.cfg.experiment.write_interval = 0
    agent.cfg.experiment.checkpoint_interval = 0
    agent.init()
    agent.checkpoint_interval = 0
    agent.write_interval = NEVER if getattr(agent, "losses_need_write_interval", False) else 0
    if hasattr(agent, "log_entropy_coefficient"):  # SAC's learned temperature is a bare tensor
        agent.checkpoint_modules.setdefault("log_entropy_coefficient", agent.log_entropy_coefficient)
    for i, space in enumerate(action_spaces(agent)):  # from the run's seed, drawing nothing from torch's
        space.seed(torch.initial_seed() % 2**32 + i)


def action_spaces(agent) -> list:
    """The gymnasium spaces skrl's random actions draw from (``Model.random_act`` samples the
    policy model's action space with the space's own numpy generator, which gymnasium seeds from the
    OS unless told: the reason skrl's off-policy agents did not repeat a run with the same seed)."""
    found = {}
    for space in [getattr(agent, "action_space", None),
                  *(getattr(m, "action_space", None) for m in (getattr(agent, "models", None) or {}).values())]:
        if space is not None and hasattr(space, "seed"):
            found[id(space)] = space
    return list(found.values())


# --- resuming: what a checkpoint holds beyond checkpoint_modules -------------------------------------
# counters and values skrl's own agents keep outside their modules: PPO's step within the rollout,
# TD3's update count (its policy delay), SAC's entropy coefficient as used by the next update
SKRL_ATTRIBUTES = ("_rollout", "_update_counter", "_entropy_coefficient")


def resume_state(agent) -> dict:
    """The agent's running state beyond its modules and memory (see the module docstring)."""
    state: dict = {"attributes": {k: copy.deepcopy(getattr(agent, k)) for k in SKRL_ATTRIBUTES if hasattr(agent, k)},
                   "spaces": [space.np_random.bit_generator.state for space in action_spaces(agent)]}
    scheduler = getattr(agent, "scheduler", None)
    if scheduler is not None and hasattr(scheduler, "state_dict"):
        state["scheduler"] = scheduler.state_dict()
    if hasattr(agent, "resume_state"):
        state["agent"] = agent.resume_state()
    return state


def load_resume_state(agent, state: dict) -> None:
    for key, value in state.get("attributes", {}).items():
        setattr(agent, key, value)
    for space, generator in zip(action_spaces(agent), state.get("spaces", [])):
        space.np_random.bit_generator.state = generator
    if "scheduler" in state:
        agent.scheduler.load_state_dict(state["scheduler"])
    if "agent" in state:
        agent.load_resume_state(state["agent"])


def memory_state(agent) -> dict | None:
    """The agent's replay (or rollout) memory, ``agent.memory`` (skrl's ``Memory``), as saved: its
    indices and the filled part of each tensor, in their own dtypes (exact), or None without one."""
    memory = getattr(agent, "memory", None)
    if memory is None or not getattr(memory, "tensors", None):
        return None
    rows = memory.memory_size if memory.filled else memory.memory_index + (1 if memory.env_index else 0)
    return {"memory_size": memory.memory_size, "num_envs": memory.num_envs, "filled": memory.filled,
            "memory_index": memory.memory_index, "env_index": memory.env_index,
            # a slice is cloned: torch.save would write a view's whole storage
            "tensors": {name: t if rows == memory.memory_size else t[:rows].clone()
                        for name, t in memory.tensors.items()}}


def load_memory_state(agent, state: dict) -> None:
    memory = agent.memory
    shape = (memory.memory_size, memory.num_envs)
    if (state["memory_size"], state["num_envs"]) != shape or set(state["tensors"]) != set(memory.tensors):
        raise ValueError(f"saved memory {state['memory_size']} x {state['num_envs']} {sorted(state['tensors'])} "
                         f"does not fit the agent's {shape[0]} x {shape[1]} {sorted(memory.tensors)}")
    with torch.no_grad():
        for name, saved in state["tensors"].items():
            memory.tensors[name][: saved.shape[0]].copy_(saved)
    memory.filled, memory.memory_index, memory.env_index = state["filled"], state["memory_index"], state["env_index"]


def memory_transitions(state: dict) -> int:
    """How many transitions a saved memory holds."""
    if state["filled"]:
        return state["memory_size"] * state["num_envs"]
    return state["memory_index"] * state["num_envs"] + state["env_index"]


def module_states(agent) -> dict:
    out = {}
    for name, module in agent.checkpoint_modules.items():
        if isinstance(module, torch.Tensor):
            out[name] = module.detach().clone()
        elif module is not None:
            out[name] = module.state_dict()
    return out


def load_module_states(agent, states: dict) -> None:
    for name, state in states.items():
        module = agent.checkpoint_modules[name]
        if isinstance(module, torch.Tensor):
            with torch.no_grad():
                module.copy_(state)
        else:
            module.load_state_dict(state)
